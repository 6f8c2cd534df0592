-- A validated constraint cannot be un-validated; reverting is a no-op.
SELECT 1;
