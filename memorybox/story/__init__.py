""" "My Story": the child's own words, section by section, versioned and shared by consent."""
