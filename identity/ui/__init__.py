"""Identity's dashboard pages: sign-in and sign-up, projects and applications, API access, admin pages."""
