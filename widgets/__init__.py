"""Qt views: layout and presentation only; they call console/ services."""
