package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
)

// stressDuration is how long TestConcurrentStarsAndComments runs: 10s, 2s
// with -short, or WHARF_STRESS_DURATION (THREATS.md asks for a minute).
func stressDuration(t *testing.T) time.Duration {
	if v := os.Getenv("WHARF_STRESS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("WHARF_STRESS_DURATION: %v", err)
		}
		return d
	}
	if testing.Short() {
		return 2 * time.Second
	}
	return 10 * time.Second
}

// stressClient is one of the concurrent API users.
type stressClient struct {
	name   string
	auth   func(*http.Request)
	member bool // may read the private repository
	// what this client left behind, per repository
	starred  map[string]bool
	comments map[string][]int64
	created  map[string]int
	deleted  map[string]int
}

// SQLite writes in immediate transactions (THREATS.md): 50 clients star,
// unstar, comment, edit and delete at once against one server. No request
// may fail with a 5xx, outsiders keep getting 404 from the private
// repository, and at the end every star_count equals its star rows and
// what the clients did, and every comment count equals what they created
// minus what they deleted.
func TestConcurrentStarsAndComments(t *testing.T) {
	const clients = 50
	e := newEnv(t, "owner")
	repos := []string{"owner/a", "owner/b", "owner/c", "owner/private"}
	const private = "owner/private"
	for _, r := range repos {
		vis := "public"
		if r == private {
			vis = "private"
		}
		e.repo("owner", "owner", r[len("owner/"):], vis)
	}
	// Accounts share one password hash, so that setting up costs one
	// bcrypt; most clients sign in with a personal access token (as Bearer,
	// or as the Basic password), a few with the password itself.
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]*stressClient, clients)
	var wg sync.WaitGroup
	for i := range cs {
		c := &stressClient{name: fmt.Sprintf("client%02d", i), member: i%2 == 0,
			starred: map[string]bool{}, comments: map[string][]int64{}, created: map[string]int{}, deleted: map[string]int{}}
		cs[i] = c
		u := &models.User{Username: c.name, Email: c.name + "@example.com", PasswordHash: string(hash)}
		if err := e.app.DB.Users.Create(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if c.member {
			e.must("PUT", "/api/v1/repositories/"+private+"/collaborators/"+c.name, "owner", map[string]string{"permission": "read"}, 200)
		}
		tok, err := e.app.Accounts.CreateToken(context.Background(), &auth.Identity{UserID: u.ID, Username: u.Username}, "stress", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		name := c.name
		switch i % 5 {
		case 0, 1, 2:
			c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Secret) }
		case 3:
			c.auth = func(r *http.Request) { r.SetBasicAuth(name, tok.Secret) }
		case 4:
			c.auth = func(r *http.Request) { r.SetBasicAuth(name, pw) }
		}
	}

	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	t.Cleanup(client.CloseIdleConnections)
	var (
		requests, fivexx atomic.Int64
		mu               sync.Mutex
		failures         []string
	)
	failf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	do := func(c *stressClient, method, path string, body any, out any) int {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, e.srv.URL+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.auth(req)
		requests.Add(1)
		res, err := client.Do(req)
		if err != nil {
			failf("%s %s as %s: %v", method, path, c.name, err)
			return 0
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			fivexx.Add(1)
			failf("%s %s as %s: %d %s", method, path, c.name, res.StatusCode, b)
		}
		if out != nil && res.StatusCode < 300 {
			if err := json.Unmarshal(b, out); err != nil {
				failf("%s %s as %s: %v in %s", method, path, c.name, err, b)
			}
		}
		return res.StatusCode
	}
	expect := func(c *stressClient, got, want int, what string) bool {
		if got != want && got != 0 && got < 500 {
			failf("%s as %s: %d, want %d", what, c.name, got, want)
		}
		return got == want
	}

	deadline := time.Now().Add(stressDuration(t))
	for i, c := range cs {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				repo := repos[rng.IntN(len(repos))]
				base := "/api/v1/repositories/" + repo
				ok := 200
				if repo == private && !c.member {
					ok = 404 // outsiders see nothing, under load too
				}
				pick := func(okStatus int) int {
					if ok == 404 {
						return 404
					}
					return okStatus
				}
				switch x := rng.IntN(100); {
				case x < 30:
					if expect(c, do(c, "PUT", base+"/star", nil, nil), pick(200), "star "+repo) && ok == 200 {
						c.starred[repo] = true
					}
				case x < 50:
					if expect(c, do(c, "DELETE", base+"/star", nil, nil), pick(200), "unstar "+repo) && ok == 200 {
						c.starred[repo] = false
					}
				case x < 75:
					var cm commentAnswer
					if expect(c, do(c, "POST", base+"/comments", map[string]string{"body": fmt.Sprintf("%s says %d", c.name, n)}, &cm), pick(201), "comment "+repo) && ok == 200 {
						c.created[repo]++
						c.comments[repo] = append(c.comments[repo], cm.ID)
					}
				case x < 82 && len(c.comments[repo]) > 0:
					ids := c.comments[repo]
					k := rng.IntN(len(ids))
					if expect(c, do(c, "DELETE", base+"/comments/"+strconv.FormatInt(ids[k], 10), nil, nil), 204, "delete comment") {
						c.deleted[repo]++
						c.comments[repo] = append(ids[:k], ids[k+1:]...)
					}
				case x < 87 && len(c.comments[repo]) > 0:
					ids := c.comments[repo]
					expect(c, do(c, "PATCH", base+"/comments/"+strconv.FormatInt(ids[rng.IntN(len(ids))], 10), map[string]string{"body": "edited"}, nil), 200, "edit comment")
				case x < 92:
					expect(c, do(c, "GET", base+"/comments?per_page=5", nil, nil), pick(200), "list comments")
				case x < 96:
					expect(c, do(c, "GET", base+"/stargazers?per_page=5", nil, nil), pick(200), "list stargazers")
				default:
					expect(c, do(c, "GET", "/api/v1/users/"+cs[rng.IntN(clients)].name+"/starred", nil, nil), 200, "list starred")
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d clients, %d requests, %d 5xx", clients, requests.Load(), fivexx.Load())
	for _, f := range failures {
		t.Error(f)
	}
	if fivexx.Load() > 0 {
		t.Fatalf("%d responses were 5xx", fivexx.Load())
	}
	for _, repo := range repos {
		wantStars, wantComments := int64(0), 0
		for _, c := range cs {
			if c.starred[repo] {
				wantStars++
			}
			wantComments += c.created[repo] - c.deleted[repo]
		}
		rows, count := e.starRows(repo)
		var api struct {
			StarCount int64 `json:"star_count"`
		}
		e.must("GET", "/api/v1/repositories/"+repo, "owner", nil, 200).json(&api)
		if rows != wantStars || count != wantStars || api.StarCount != wantStars {
			t.Errorf("%s: %d star rows, star_count %d (API %d), want %d", repo, rows, count, api.StarCount, wantStars)
		}
		var dbComments int64
		if err := e.app.DB.Writer().Raw("SELECT COUNT(*) FROM comments c JOIN repositories r ON r.id = c.repository_id WHERE r.name = ?", repo).Scan(&dbComments).Error; err != nil {
			t.Fatal(err)
		}
		total := e.must("GET", "/api/v1/repositories/"+repo+"/comments?per_page=1", "owner", nil, 200).header.Get("X-Total-Count")
		if dbComments != int64(wantComments) || total != strconv.Itoa(wantComments) {
			t.Errorf("%s: %d comment rows, X-Total-Count %s, want %d", repo, dbComments, total, wantComments)
		}
		t.Logf("%s: %d stars, %d comments", repo, wantStars, wantComments)
	}
}
