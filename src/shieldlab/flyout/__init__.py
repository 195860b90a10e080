"""flyout stage."""
