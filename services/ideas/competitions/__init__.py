"""Idea competitions (Ideenwettbewerbe): staff open one on a theme in a field of action with a submission
window and a jury; ideas are entered while it is open; it closes by a timer or early by staff; the jury
shortlists entries."""
