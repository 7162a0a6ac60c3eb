"""The authority console (``/app/console``): pages for members of authority organisations, over
the same sign-in, sessions, CSRF and security headers as the cooperative workspace."""
