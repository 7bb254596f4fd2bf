"""Accounts views, by group: auth (sign-in, set-up, sudo, passwords), households,
members and invitations."""
