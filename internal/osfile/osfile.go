// Package osfile opens files the way a many-small-files sync wants: one
// openat(2), without the poller registration that os.Open and os.OpenFile
// attempt on every file.
//
// On Unix os.OpenFile switches the descriptor to non-blocking mode, tries to
// add it to the runtime's epoll set (which a regular file refuses) and
// switches it back: four fcntl(2) calls and one failing epoll_ctl(2) per
// file, several times the cost of the open itself when a run opens 10,000
// small files. The *os.File returned here is an ordinary blocking file: use
// it for regular files, not for pipes, sockets or terminals (whose reads
// would then block an OS thread, not just a goroutine).
package osfile
