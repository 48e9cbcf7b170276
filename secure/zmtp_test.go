package secure_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A raw ZMTP 3.0 peer, written byte by byte so that it can do what no
// libzmq peer does: stop halfway through a greeting, announce a frame
// larger than the server allows, or start a multipart message that never
// ends.

// greeting is a ZMTP 3.0 greeting for the NULL mechanism, as a client.
func greeting() []byte {
	g := make([]byte, 64)
	g[0], g[9] = 0xff, 0x7f // signature
	g[10], g[11] = 3, 0     // version 3.0
	copy(g[12:32], "NULL")  // mechanism, zero-padded
	return g                // as-server 0, filler zero
}

// ready is the NULL mechanism's READY command, for a DEALER.
func ready() []byte {
	body := []byte{5}
	body = append(body, "READY"...)
	body = append(body, byte(len("Socket-Type")))
	body = append(body, "Socket-Type"...)
	body = binary.BigEndian.AppendUint32(body, uint32(len("DEALER")))
	body = append(body, "DEALER"...)
	return append([]byte{0x04, byte(len(body))}, body...)
}

// frameHeader is the header of a long message frame of size bytes.
func frameHeader(size uint64, more bool) []byte {
	flags := byte(0x02)
	if more {
		flags |= 0x01
	}
	return binary.BigEndian.AppendUint64([]byte{flags}, size)
}

// rawDial connects to a zchan tcp endpoint ("tcp://127.0.0.1:port").
func rawDial(t testing.TB, ep string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(ep, "tcp://"), wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nullHandshake does the client side of a NULL handshake on c. It waits
// for the server's greeting before it sends READY, as libzmq does: libzmq
// 4.3.4 refuses a READY that arrives with the greeting in one segment
// (unexpected command).
func nullHandshake(t testing.TB, c net.Conn) {
	t.Helper()
	if _, err := c.Write(greeting()); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 64)); err != nil {
		t.Fatalf("server greeting: %v", err)
	}
	if _, err := c.Write(ready()); err != nil {
		t.Fatal(err)
	}
}

// closedByPeer reads c until the peer closes it, bounded by wait, and
// returns how long that took. It fails the test if c is still open.
func closedByPeer(t testing.TB, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(wait)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", wait)
	}
	return time.Since(start)
}

// rss returns the process's resident set size in bytes, from
// /proc/self/statm.
func rss(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
