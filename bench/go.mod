module github.com/zmqchan/zmqchan/bench

go 1.26.0

replace github.com/zmqchan/zmqchan => ../

require (
	github.com/pebbe/zmq4 v1.4.0
	github.com/zmqchan/zmqchan v0.0.0
	golang.org/x/sys v0.49.0
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
)
