package api_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhub/wharf/server/servertest"
)

// countingEnv is an env whose handler counts what it reads of the body of
// each request that raw sends.
type countingEnv struct {
	*env
	reads chan bodyRead
}

func newCountingEnv(t *testing.T, users ...string) *countingEnv {
	t.Helper()
	return countingOver(t, newEnv(t, users...))
}

// countingOver is env behind the counting server.
func countingOver(t *testing.T, env *env) *countingEnv {
	t.Helper()
	e := &countingEnv{env: env, reads: make(chan bodyRead, 64)}
	h := servertest.Handler(t, e.app)
	e.srv.Close()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := &countingBody{ReadCloser: r.Body}
		r.Body = b
		h.ServeHTTP(w, r)
		if tag := r.Header.Get("X-Test-Request"); tag != "" {
			e.reads <- bodyRead{tag, b.n.Load()}
		}
	}))
	return e
}

// bodyRead is how much of a tagged request's body the handlers read.
type bodyRead struct {
	tag string
	n   int64
}

// countingBody counts what the server's handlers read of a body.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// send sends a raw body with an Authorization header ("" for none).
func (e *countingEnv) send(method, path, authz string, body []byte) result {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, res.Header, b}
}

func (r result) code() string {
	var v struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &v)
	return v.Error.Code
}

// raw sends a request over a plain connection, with a body of size bytes:
// declared by Content-Length and never sent (a server that waits for it
// never answers, and the read deadline fails the test), or streamed in
// chunks until the server stops reading. It returns the answer and how
// many body bytes the server's handlers read. A stream is the start of a
// JSON object whose first string never ends.
func (e *countingEnv) raw(method, path, authz string, size int64, chunked bool) (result, int64) {
	e.t.Helper()
	tag := fmt.Sprint(time.Now().UnixNano())
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "%s %s HTTP/1.1\r\nHost: wharf.test\r\nContent-Type: application/json\r\nX-Test-Request: %s\r\n", method, path, tag)
	if authz != "" {
		fmt.Fprintf(&hdr, "Authorization: %s\r\n", authz)
	}
	if chunked {
		hdr.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	} else {
		fmt.Fprintf(&hdr, "Content-Length: %d\r\n\r\n", size)
	}
	if _, err := io.WriteString(conn, hdr.String()); err != nil {
		e.t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if !chunked {
			return
		}
		// A JSON string that never ends: a decoder reads all it is given.
		const open = `{"description":"`
		if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(open), open); err != nil {
			return
		}
		chunk := fmt.Sprintf("%x\r\n%s\r\n", 32<<10, strings.Repeat("a", 32<<10))
		for sent := int64(len(open)); sent < size; sent += 32 << 10 {
			if _, err := io.WriteString(conn, chunk); err != nil {
				return // the server stopped reading and closed
			}
		}
		_, _ = io.WriteString(conn, "0\r\n\r\n")
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("%s %s: no answer: %v", method, path, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	conn.Close()
	<-wrote
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-e.reads:
			if r.tag == tag {
				return result{res.StatusCode, res.Header, b}, r.n
			}
		case <-timeout:
			e.t.Fatalf("%s %s: the handler did not finish", method, path)
			return result{}, 0
		}
	}
}
