-- Step 1 of the runbook's phone column: add it nullable, so running code keeps working.
ALTER TABLE users ADD COLUMN phone VARCHAR(20);
