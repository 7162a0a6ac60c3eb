"""The cooperative workspace: phone-first, Vietnamese-first pages under ``/app`` for people
(sign-in with a password, server-side sessions, CSRF); every action calls the same domain
services as the JSON API."""
