package mirror

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/events"
	"github.com/wharfhub/wharf/server/mirror/upstream"
	"github.com/wharfhub/wharf/server/textcheck"
)

// Def defines a mirror: its namespace, its upstream and the credentials
// it logs in with.
type Def struct {
	Name, URL, Username, Password string
}

// Errors of the catalog, besides the policy's.
var (
	// ErrInvalid is a definition that is not one; its text says why.
	ErrInvalid = errors.New("invalid mirror")
	// ErrFromFlags is a mirror the flags define, which the API cannot
	// change.
	ErrFromFlags = errors.New("this mirror is defined by --mirror (or the environment or config file) and cannot be changed here")
)

// Catalog is where mirrors are defined: the flags' (fixed while the
// server runs) and those site admins add and remove through the API,
// which every replica picks up from the database.
type Catalog struct {
	svc   *Service
	db    *models.DB
	flags []Def
	gcm   cipher.AEAD
	log   *slog.Logger
	bus   *events.Bus
}

// NewCatalog makes the catalog over svc; key (32 bytes) seals the
// upstream passwords stored in the database. Load fills svc.
func NewCatalog(svc *Service, db *models.DB, flags []Def, key []byte, log *slog.Logger, bus *events.Bus) (*Catalog, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mirror credentials key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Catalog{svc: svc, db: db, flags: flags, gcm: gcm, log: log, bus: bus}, nil
}

// Build makes a mirror's upstream client.
func Build(d Def, source string) (Mirror, error) {
	c, err := upstream.New(upstream.Options{URL: d.URL, Username: d.Username, Password: d.Password, UserAgent: "wharf"})
	if err != nil {
		return Mirror{}, fmt.Errorf("mirror %s: %w", d.Name, err)
	}
	return Mirror{Name: d.Name, URL: d.URL, Upstream: &credentialed{c, d}, Source: source}, nil
}

// credentialed is an upstream client with the definition it was made
// from, so that a reload keeps a client (and its tokens) whose
// definition did not change.
type credentialed struct {
	*upstream.Client
	def Def
}

// Load reads the mirrors defined through the API and makes the service
// serve them beside the flags'. A mirror whose definition did not change
// keeps its client, and the tokens it holds.
func (c *Catalog) Load(ctx context.Context) error {
	defs, err := c.db.Mirrors.Defined(ctx)
	if err != nil {
		return fmt.Errorf("load mirrors: %w", err)
	}
	current := map[string]Mirror{}
	for _, m := range c.svc.List() {
		current[m.Name] = m
	}
	var ms []Mirror
	add := func(d Def, source string) {
		if m, ok := current[d.Name]; ok {
			if cr, ok := m.Upstream.(*credentialed); ok && cr.def == d && m.Source == source {
				ms = append(ms, m)
				return
			}
		}
		m, err := Build(d, source)
		if err != nil {
			c.log.Error("mirror not served", "mirror", d.Name, "err", err)
			return
		}
		ms = append(ms, m)
	}
	flagNames := map[string]bool{}
	for _, d := range c.flags {
		flagNames[d.Name] = true
		add(d, SourceFlags)
	}
	for _, r := range defs {
		if flagNames[r.Name] {
			continue // the flags win
		}
		d := Def{Name: r.Name, URL: r.URL, Username: r.Username}
		if len(r.SealedPassword) > 0 {
			p, err := c.open(r.SealedPassword)
			if err != nil {
				c.log.Error("mirror not served: its password does not unseal", "mirror", r.Name, "err", err)
				continue
			}
			d.Password = string(p)
		}
		add(d, SourceAPI)
	}
	c.svc.Replace(ms)
	return nil
}

// Run reads the definitions again every interval, so that what another
// replica's API changed is served here too, until ctx ends.
func (c *Catalog) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Load(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("mirrors", "err", err)
			}
		}
	}
}

// Define adds a mirror; site administrators only.
func (c *Catalog) Define(ctx context.Context, id *auth.Identity, d Def) error {
	models.Note(ctx, models.AuditNote{Action: "mirror.create", Target: d.Name, Namespace: d.Name, Detail: "upstream " + d.URL})
	if err := admin(id); err != nil {
		return err
	}
	if err := check(&d); err != nil {
		return err
	}
	for _, f := range c.flags {
		if f.Name == d.Name {
			return ErrFromFlags
		}
	}
	row := &models.MirrorDef{Name: d.Name, URL: d.URL, Username: d.Username}
	if d.Password != "" {
		sealed, err := c.seal([]byte(d.Password))
		if err != nil {
			return err
		}
		row.SealedPassword = sealed
	}
	if err := c.db.Mirrors.Define(ctx, row); err != nil {
		return err
	}
	c.bus.Publish(events.Event{Kind: events.NamespaceCreated, Namespace: d.Name})
	return c.Load(ctx)
}

// Remove removes a mirror defined through the API, with everything it
// cached; site administrators only.
func (c *Catalog) Remove(ctx context.Context, id *auth.Identity, name string) error {
	models.Note(ctx, models.AuditNote{Action: "mirror.delete", Target: name, Namespace: name})
	if err := admin(id); err != nil {
		return err
	}
	if !auth.ValidNamespaceName(name) {
		return models.ErrNotFound // no mirror has such a name; the database never sees it
	}
	for _, f := range c.flags {
		if f.Name == name {
			return ErrFromFlags
		}
	}
	if err := c.db.Mirrors.Undefine(ctx, name); err != nil {
		return err
	}
	c.bus.Publish(events.Event{Kind: events.NamespaceDeleted, Namespace: name})
	return c.Load(ctx)
}

func admin(id *auth.Identity) error {
	switch {
	case id == nil:
		return auth.ErrUnauthenticated
	case !id.CanAdministerSite():
		return auth.ErrDenied
	}
	return nil
}

// Kinds of a definition's text, checked by the one text validator first.
var (
	nameText     = textcheck.Kind{Name: "the mirror's name", Max: 255}
	urlText      = textcheck.Kind{Name: "the mirror's URL", Max: 2048}
	usernameText = textcheck.Kind{Name: "the mirror's username", Max: 255}
	passwordText = textcheck.Kind{Name: "the mirror's password", Max: 4096}
)

// check tidies and checks a definition.
func check(d *Def) error {
	for k, v := range map[textcheck.Kind]string{nameText: d.Name, urlText: d.URL, usernameText: d.Username, passwordText: d.Password} {
		if err := k.Check(v); err != nil {
			return err
		}
	}
	d.Name = strings.TrimSpace(d.Name)
	if !auth.ValidNamespaceName(d.Name) {
		return fmt.Errorf("%w: %q is not a namespace name (lowercase letters, digits and separators)", ErrInvalid, d.Name)
	}
	u, err := upstream.RegistryURL(d.URL)
	if err != nil {
		return fmt.Errorf("%w: %q is not a registry URL such as https://registry-1.docker.io", ErrInvalid, d.URL)
	}
	d.URL = u
	if (d.Username == "") != (d.Password == "") {
		return fmt.Errorf("%w: give both a username and a password, or neither", ErrInvalid)
	}
	return nil
}

func (c *Catalog) seal(p []byte) ([]byte, error) {
	nonce := make([]byte, c.gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return c.gcm.Seal(nonce, nonce, p, nil), nil
}

func (c *Catalog) open(b []byte) ([]byte, error) {
	n := c.gcm.NonceSize()
	if len(b) < n {
		return nil, errors.New("sealed password too short")
	}
	return c.gcm.Open(nil, b[:n], b[n:], nil)
}
