"""Exports of a child's box: a life-story book (PDF), a JSON file for case-management systems
and "Take it with me" (a ZIP of everything). Each is built in the background and holds only
what the person who asked for it may see."""
