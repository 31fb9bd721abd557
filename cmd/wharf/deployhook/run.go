package deployhook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file runs the deploy command of a queued push, one at a time.

// work runs queued jobs one after the other until the queue is empty.
func (h *Handler) work() {
	defer h.wg.Done()
	for {
		h.mu.Lock()
		if len(h.queue) == 0 || h.closed {
			h.running = false
			h.mu.Unlock()
			return
		}
		j := h.queue[0]
		h.queue = h.queue[1:]
		h.mu.Unlock()
		st, desc := h.execute(j)
		h.report(j, st, desc)
	}
}

// execute runs the command for j and says how it went.
func (h *Handler) execute(j job) (state, description string) {
	log := h.log.With("delivery", j.delivery, "repo", j.repo, "tag", j.tag, "digest", j.digest)
	ctx, cancel := context.WithTimeout(h.base, h.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.shell, "-c", h.cfg.Run)
	cmd.Env = append(childEnv(),
		"WHARF_REPO="+j.repo,
		"WHARF_TAG="+j.tag,
		"WHARF_DIGEST="+j.digest,
		"WHARF_PUSHER="+j.pusher,
	)
	out := &tail{max: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	// Output pipes held open by grandchildren must not block past a kill.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	log.Info("running command")
	if err := cmd.Start(); err != nil {
		log.Error("command did not start", "err", err)
		return "error", "command did not start: " + err.Error()
	}
	err := cmd.Wait()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		log.Error("command timed out", "after", h.cfg.Timeout)
		return "error", describe(fmt.Sprintf("timed out after %s", h.cfg.Timeout), out)
	case h.base.Err() != nil:
		log.Error("command killed: deploy-hook shutting down")
		return "error", describe("killed: deploy-hook shutting down", out)
	case err == nil:
		log.Info("command succeeded", "took", took)
		return "success", describe("exit status 0", out)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && (exit.ExitCode() == 126 || exit.ExitCode() == 127) {
		// The shell could not find or execute the command: it never started.
		log.Error("command did not start", "took", took, "status", exit.ExitCode(), "output", out.String())
		return "error", describe("command not found or not executable ("+exit.String()+")", out)
	}
	if errors.As(err, &exit) {
		log.Warn("command failed", "took", took, "status", exit.ExitCode(), "output", out.String())
		return "failure", describe(exit.String(), out)
	}
	log.Error("command failed", "took", took, "err", err)
	return "error", describe(err.Error(), out)
}

// childEnv is the parent's environment without the webhook secret.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WHARF_DEPLOY_SECRET=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func describe(status string, out *tail) string {
	s := strings.TrimSpace(printable(out.String()))
	if s == "" {
		return status
	}
	// Keep the end of the output: that is where a failure says why.
	if room := maxDescription - len(status) - 5; len(s) > room {
		s = s[len(s)-max(room, 0):]
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		s = "…" + s
	}
	return status + "\n" + s
}

// maxDescription is the longest callback description Wharf takes.
const maxDescription = 1000

// printable drops what Wharf refuses in a callback description: invalid
// UTF-8 and control characters other than line breaks and tabs (a
// command's colour codes, say).
func printable(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return -1
		}
		return r
	}, s)
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if t.truncated {
		// Drop a rune cut in half by the truncation.
		for n := 0; n < 3 && len(b) > 0 && b[0]&0xC0 == 0x80; n++ {
			b = b[1:]
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if t.truncated {
		s = "..." + s
	}
	return s
}
