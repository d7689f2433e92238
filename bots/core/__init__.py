"""The platform-neutral conversation core shared by every chat adapter."""
