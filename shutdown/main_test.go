package shutdown_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/internal/childproc"
)

func TestMain(m *testing.M) {
	childproc.Main(map[string]func() int{
		"service": serviceMain,
		"rawleak": rawLeakMain,
	})
	goleak.VerifyTestMain(m)
}
