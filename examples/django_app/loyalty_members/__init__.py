"""Members' loyalty pages and the due-jobs command."""
