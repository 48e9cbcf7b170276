module github.com/zmqchan/zmqchan

go 1.26.0

require (
	github.com/pebbe/zmq4 v1.4.0
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.49.0
)

require go.uber.org/multierr v1.10.0 // indirect
