-- Step 1: add the phone column nullable, so running code keeps working.
ALTER TABLE users ADD COLUMN phone VARCHAR(20);
