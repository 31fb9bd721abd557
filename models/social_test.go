package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wharfhub/wharf/models"
)

func mkUser(t *testing.T, db *models.DB, name string) int64 {
	t.Helper()
	u := &models.User{Username: name, Email: name + "@example.com", PasswordHash: "x"}
	if err := db.Users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func mkRepo(t *testing.T, db *models.DB, name string) int64 {
	t.Helper()
	r := &models.Repository{Name: name, Visibility: models.VisibilityPublic}
	if err := db.Repositories.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// starRows counts the star rows of a repository, to compare with its
// star_count.
func starRows(t *testing.T, db *models.DB, repoID int64) (rows, count int64) {
	t.Helper()
	if err := db.Writer().Raw("SELECT COUNT(*) FROM stars WHERE repository_id = ?", repoID).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Writer().Raw("SELECT star_count FROM repositories WHERE id = ?", repoID).Scan(&count).Error; err != nil {
		t.Fatal(err)
	}
	return rows, count
}

func TestStarsKeepTheCountExact(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	alice, bob := mkUser(t, db, "alice"), mkUser(t, db, "bob")
	repo := mkRepo(t, db, "alice/app")
	steps := []struct {
		name string
		user int64
		star bool
		want int64
	}{
		{"first star counts", alice, true, 1},
		{"starring again changes nothing", alice, true, 1},
		{"another user counts", bob, true, 2},
		{"unstar uncounts", alice, false, 1},
		{"unstarring again changes nothing", alice, false, 1},
		{"unstarring what was never starred changes nothing", alice, false, 1},
		{"last unstar reaches zero", bob, false, 0},
	}
	for _, s := range steps {
		var n int64
		var err error
		if s.star {
			n, err = db.Stars.Add(ctx, s.user, repo)
		} else {
			n, err = db.Stars.Remove(ctx, s.user, repo)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		rows, count := starRows(t, db, repo)
		if n != s.want || rows != s.want || count != s.want {
			t.Fatalf("%s: returned %d, %d rows, star_count %d; want %d", s.name, n, rows, count, s.want)
		}
		starred, err := db.Stars.Has(ctx, s.user, repo)
		if err != nil || starred != s.star {
			t.Fatalf("%s: IsStarred = %v, %v", s.name, starred, err)
		}
	}
	if _, err := db.Stars.Add(ctx, alice, 9999); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("star of a missing repository: %v", err)
	}
	if _, err := db.Stars.Remove(ctx, alice, 9999); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unstar of a missing repository: %v", err)
	}
}

func TestStargazersAndStarredRepositories(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var users []int64
	for i := range 5 {
		users = append(users, mkUser(t, db, fmt.Sprintf("user%d", i)))
	}
	var repos []int64
	for i := range 3 {
		repos = append(repos, mkRepo(t, db, fmt.Sprintf("user0/r%d", i)))
	}
	for _, u := range users {
		if _, err := db.Stars.Add(ctx, u, repos[0]); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range repos {
		if _, err := db.Stars.Add(ctx, users[0], r); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	for off := 0; ; off += 2 {
		page, err := db.Stars.Stargazers(ctx, repos[0], 2, off)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d", len(page))
		}
		all = append(all, page...)
		if len(page) < 2 {
			break
		}
	}
	if len(all) != 5 {
		t.Fatalf("stargazers %v", all)
	}
	seen := map[string]bool{}
	for _, u := range all {
		if seen[u] {
			t.Fatalf("%s listed twice: %v", u, all)
		}
		seen[u] = true
	}
	rs, err := db.Stars.OfUser(ctx, users[0], 10, 0)
	if err != nil || len(rs) != 3 {
		t.Fatalf("starred: %v %v", rs, err)
	}
	if err := db.Repositories.Delete(ctx, repos[0], ""); err != nil {
		t.Fatal(err)
	}
	rs, _ = db.Stars.OfUser(ctx, users[0], 10, 0)
	if len(rs) != 2 {
		t.Fatalf("a deleted repository is still starred: %v", rs)
	}
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	alice, bob := mkUser(t, db, "alice"), mkUser(t, db, "bob")
	app, other := mkRepo(t, db, "alice/app"), mkRepo(t, db, "alice/other")
	var ids []int64
	for i, u := range []int64{alice, bob, alice} {
		c := &models.Comment{RepositoryID: app, UserID: u, Body: fmt.Sprintf("comment %d", i)}
		if err := db.Comments.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	elsewhere := &models.Comment{RepositoryID: other, UserID: bob, Body: "elsewhere"}
	if err := db.Comments.Create(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := db.Comments.Create(ctx, &models.Comment{RepositoryID: 9999, UserID: bob, Body: "x"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("comment on a missing repository: %v", err)
	}
	if n, err := db.Comments.Count(ctx, app); err != nil || n != 3 {
		t.Fatalf("count %d %v", n, err)
	}
	cs, err := db.Comments.List(ctx, app, 2, 0)
	if err != nil || len(cs) != 2 || cs[0].ID != ids[0] || cs[1].ID != ids[1] || cs[0].Username != "alice" || cs[1].Username != "bob" {
		t.Fatalf("first page: %+v %v", cs, err)
	}
	cs, _ = db.Comments.List(ctx, app, 2, 2)
	if len(cs) != 1 || cs[0].ID != ids[2] || cs[0].Body != "comment 2" {
		t.Fatalf("second page: %+v", cs)
	}
	c, err := db.Comments.Get(ctx, app, ids[1])
	if err != nil || c.Username != "bob" || c.UserID != bob || c.Body != "comment 1" {
		t.Fatalf("get: %+v %v", c, err)
	}
	// Ids of another repository's comments are not found through this one.
	if _, err := db.Comments.Get(ctx, app, elsewhere.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("get through the wrong repository: %v", err)
	}
	if err := db.Comments.Update(ctx, app, elsewhere.ID, "hijack", "<p>hijack</p>", 2); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update through the wrong repository: %v", err)
	}
	if err := db.Comments.Delete(ctx, app, elsewhere.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete through the wrong repository: %v", err)
	}
	if err := db.Comments.Update(ctx, app, ids[1], "edited", "<p>edited</p>", 2); err != nil {
		t.Fatal(err)
	}
	c, _ = db.Comments.Get(ctx, app, ids[1])
	if c.Body != "edited" || c.BodyHTML != "<p>edited</p>" || c.BodyHTMLVersion != 2 || c.UpdatedAt.Before(c.CreatedAt) {
		t.Fatalf("after update: %+v", c)
	}
	if err := db.Comments.Delete(ctx, app, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := db.Comments.Delete(ctx, app, ids[1]); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if n, _ := db.Comments.Count(ctx, app); n != 2 {
		t.Fatalf("count after delete %d", n)
	}
	if err := db.Repositories.Delete(ctx, app, ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Comments.Count(ctx, app); n != 0 {
		t.Fatalf("comments outlive their repository: %d", n)
	}
	if c, err := db.Comments.Get(ctx, other, elsewhere.ID); err != nil || c.Body != "elsewhere" {
		t.Fatalf("other repository's comment: %+v %v", c, err)
	}
}
