"""Later-life letters: a social worker writes to a child, to be opened on a day, on a
birthday, or when the child asks and the worker agrees."""
