"""The page's sections, in the order of its story: one module each, a class whose constructor lays the
section out (inside the page's gr.Blocks) and whose `wire` connects its events once every section exists.
Handlers are the classes' methods, so a test builds a page (app.build_page) and calls them directly."""
