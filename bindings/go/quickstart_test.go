package x8

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The README's Go example is a real program: build and run it against the shared emulator.
func TestQuickstartProgramRuns(t *testing.T) {
	cmd := exec.Command("go", "run", "./examples/quickstart")
	cmd.Env = append(os.Environ(), "X8_CLIENT_ID="+demoID, "X8_CLIENT_SECRET="+demoSecret, "X8_BASE_URL="+shared.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "GET queues -> HTTP 200") || !strings.Contains(text, "analytics realtime-api") {
		t.Fatalf("unexpected quickstart output:\n%s", text)
	}
	if strings.Contains(text, demoSecret) {
		t.Fatal("the quickstart printed the secret")
	}
}
