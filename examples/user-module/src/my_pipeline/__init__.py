"""An example of a user's own Dagger module that builds its image its own way and lets Seaworthy check it."""
