"""kbengine: a knowledge base and troubleshooting decision-tree engine for IT service desks."""

__version__ = "0.1.0"
