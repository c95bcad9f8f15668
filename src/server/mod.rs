//! The scriptable test server: static files, `.headers`, `.asis`, pipes, handlers and
//! the stash, as tower services.
