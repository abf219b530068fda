"""Public status pages: admin CRUD, the public view, badges and the widget summary."""
