"""The Displays, one per module, and the drawing helpers they share (``_base``)."""
