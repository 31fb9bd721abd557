package hub_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/wharfhub/wharf/server/hub"
)

// What the hub refuses, it says in sentences a person reads on a page or
// in the API: a capital letter, a full stop, and no Go quoting.
func TestInvalidMessagesAreSentences(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.hub.Orgs.Create(ctx, f.alice, "acme", ""); err != nil {
		t.Fatal(err)
	}
	perm := func(s string) *string { return &s }
	repo := hub.Target{Repository: "alice/app"}
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"collaborator nobody is", func() error { return f.hub.Repos.SetCollaborator(ctx, f.alice, "alice/app", "ghost", "read") },
			"There is no user named ghost."},
		{"collaborator with a name nobody can have", func() error {
			return f.hub.Repos.SetCollaborator(ctx, f.alice, "alice/app", "gh\nost", "read")
		}, "There is no user by that name."},
		{"collaborator permission", func() error { return f.hub.Repos.SetCollaborator(ctx, f.alice, "alice/app", "bob", "owner") },
			"The permission must be read, write or admin."},
		{"member nobody is", func() error { return f.hub.Orgs.SetMember(ctx, f.alice, "acme", "ghost", "member") },
			"There is no user named ghost."},
		{"member role", func() error { return f.hub.Orgs.SetMember(ctx, f.alice, "acme", "bob", "boss") },
			"The role must be owner or member."},
		{"the last owner", func() error { return f.hub.Orgs.RemoveMember(ctx, f.alice, "acme", "alice") },
			"An organization needs at least one owner."},
		{"organization name", func() error { _, err := f.hub.Orgs.Create(ctx, f.alice, "Acme Inc", ""); return err },
			"An organization name must be 2 to 64 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit."},
		{"member permission", func() error {
			_, err := f.hub.Orgs.Update(ctx, f.alice, "acme", hub.OrgPatch{MemberPermission: perm("all")})
			return err
		}, "The member permission must be none (teams decide), read, write or admin."},
		{"repository name", func() error {
			_, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "My App"})
			return err
		}, "alice/My App is not a valid repository name: use lowercase letters and digits, with '.', '_' or '-' between them."},
		{"repository name not to repeat", func() error {
			_, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "a\x00b"})
			return err
		}, "That is not a valid repository name: use lowercase letters and digits, with '.', '_' or '-' between them."},
		{"no repository name", func() error {
			_, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice"})
			return err
		}, "A repository needs a namespace and a name."},
		{"visibility", func() error {
			_, err := f.hub.Repos.Create(ctx, f.alice, hub.CreateRepositoryInput{Namespace: "alice", Name: "x", Visibility: "secret"})
			return err
		}, "The visibility must be public or private."},
		{"empty comment", func() error { _, err := f.hub.Social.AddComment(ctx, f.alice, "alice/app", " \n "); return err },
			"A comment cannot be empty."},
		{"long comment", func() error {
			_, err := f.hub.Social.AddComment(ctx, f.alice, "alice/app", strings.Repeat("a", hub.MaxComment+1))
			return err
		}, "Comment must be at most 10000 bytes."},
		{"long README", func() error {
			readme := strings.Repeat("a", hub.MaxReadme+1)
			_, err := f.hub.Repos.Update(ctx, f.alice, "alice/app", hub.RepositoryPatch{Readme: &readme})
			return err
		}, "README must be at most 100000 bytes."},
		{"negative quota", func() error { return f.hub.Namespaces.SetQuota(ctx, f.root, "alice", -1) },
			"A quota cannot be negative."},
		{"webhook name", func() error {
			_, err := f.hub.Webhooks.Create(ctx, f.alice, repo, hub.WebhookInput{URL: "https://ci.example.com/"})
			return err
		}, "A webhook needs a name of 1 to 100 characters."},
		{"webhook URL", func() error {
			_, err := f.hub.Webhooks.Create(ctx, f.alice, repo, hub.WebhookInput{Name: "ci", URL: "ftp://ci.example.com/"})
			return err
		}, "The webhook URL must be an absolute http:// or https:// URL without credentials."},
		{"webhook events", func() error {
			_, err := f.hub.Webhooks.Create(ctx, f.alice, repo, hub.WebhookInput{Name: "ci", URL: "https://ci.example.com/", Events: []string{"pull"}})
			return err
		}, "Events must be among push, delete and signature."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var inv *hub.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want *hub.Invalid", err)
			}
			if inv.Msg != tc.want {
				t.Fatalf("message %q, want %q", inv.Msg, tc.want)
			}
			// A message may start with the name the caller typed.
			capital := unicode.IsUpper([]rune(inv.Msg)[0]) || strings.HasPrefix(inv.Msg, "alice/")
			if !capital || !strings.HasSuffix(inv.Msg, ".") || strings.ContainsAny(inv.Msg, `"%`) {
				t.Errorf("%q is not a sentence", inv.Msg)
			}
		})
	}
}
