UPDATE users SET phone = NULL WHERE phone = '';
