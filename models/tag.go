package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// TagStore lists and deletes tags. A push sets tags with its manifest
// (ManifestStore.Put); a delete writes its webhook events in the same
// transaction.
type TagStore struct{ *conn }

// Tag is a name in a repository pointing to one manifest.
type Tag struct {
	ID           int64
	RepositoryID int64
	Name         string
	ManifestID   int64
	Pusher       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// CheckedAt, for a mirrored tag, is when the upstream last confirmed
	// it (nil for a pushed one).
	CheckedAt *time.Time
}

// Delete removes a tag; it reports whether the tag existed. Actor (may
// be "") is who deleted it, on the delete event.
func (s *TagStore) Delete(ctx context.Context, name, tag, actor string) (bool, error) {
	var found bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var t Tag
		err := tx.Raw(`SELECT t.id, t.repository_id FROM tags t JOIN repositories r ON r.id = t.repository_id
			WHERE r.name = ? AND t.name = ?`, name, tag).Take(&t).Error
		if err != nil {
			return notFound(err)
		}
		found = true
		if err := checkDeletable(tx, t.RepositoryID, name, []string{tag}); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM tags WHERE id = ?", t.ID).Error; err != nil {
			return err
		}
		if err := enqueue(tx, t.RepositoryID, outboxEvent{Event: "delete", Action: "tag_deleted", Repository: name, Tag: tag, Actor: actor}, false); err != nil {
			return err
		}
		return touchRepository(tx, t.RepositoryID)
	})
	if err == ErrNotFound {
		return false, nil
	}
	return found, err
}

// List lists the tag names of repository name after last in lexical
// order, at most n of them.
func (s *TagStore) List(ctx context.Context, name, last string, n int) ([]string, error) {
	var tags []string
	err := s.read(ctx).Table("tags t").Joins("JOIN repositories r ON r.id = t.repository_id").
		Where("r.name = ? AND t.name > ?", name, last).Order("t.name").Limit(n).Pluck("t.name", &tags).Error
	return tags, err
}

// TagDetail is a tag with what the hub shows about its manifest.
type TagDetail struct {
	Name      string
	Digest    string
	MediaType string
	// ArtifactType is the manifest's artifactType or config media type.
	ArtifactType string
	Kind         string
	ContentSize  int64
	Platforms    string
	Pusher       string
	UpdatedAt    time.Time
}

// TagQuery picks and orders a page of a repository's tags.
type TagQuery struct {
	// Filter keeps the tags whose name holds it, ignoring case.
	Filter string
	// Name keeps only the tag of that name.
	Name string
	// Sort is TagsByPushed (the default), TagsByName or TagsBySize.
	Sort string
	// Kinds keeps only the tags of manifests of these kinds (see
	// Manifest.Kind); none keeps every tag.
	Kinds         []string
	Limit, Offset int
}

// The orders of TagQuery.Sort.
const (
	TagsByPushed = "pushed" // newest push first
	TagsByName   = "name"   // A to Z
	TagsBySize   = "size"   // biggest first
)

var tagOrders = map[string]string{
	"":           "t.updated_at DESC, t.name",
	TagsByPushed: "t.updated_at DESC, t.name",
	TagsByName:   "t.name",
	TagsBySize:   "m.content_size DESC, t.name",
}

// ValidTagSort reports whether sort is an order TagQuery knows.
func ValidTagSort(sort string) bool { _, ok := tagOrders[sort]; return ok }

func (s *TagStore) matching(ctx context.Context, repoID int64, q TagQuery) *gorm.DB {
	db := s.read(ctx).Table("tags t").Where("t.repository_id = ?", repoID)
	if q.Name != "" {
		db = db.Where("t.name = ?", q.Name)
	}
	if len(q.Kinds) > 0 {
		db = db.Where("t.manifest_id IN (?)", s.read(ctx).Table("manifests").Select("id").
			Where("repository_id = ? AND kind IN ?", repoID, q.Kinds))
	}
	if q.Filter != "" {
		db = db.Where(`LOWER(t.name) LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(strings.ToLower(q.Filter))+"%")
	}
	return db
}

// likeEscaper makes text match itself in a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// Details lists a page of a repository's tags as q says.
func (s *TagStore) Details(ctx context.Context, repoID int64, q TagQuery) ([]TagDetail, error) {
	order, ok := tagOrders[q.Sort]
	if !ok {
		order = tagOrders[""]
	}
	var out []TagDetail
	err := s.matching(ctx, repoID, q).
		Select("t.name, m.digest, m.media_type, m.artifact_type, m.kind, m.content_size, m.platforms, t.pusher, t.updated_at").
		Joins("JOIN manifests m ON m.id = t.manifest_id").
		Order(order).Limit(q.Limit).Offset(q.Offset).Scan(&out).Error
	return out, err
}

// Count counts the tags q picks, whatever its page.
func (s *TagStore) Count(ctx context.Context, repoID int64, q TagQuery) (int64, error) {
	var n int64
	err := s.matching(ctx, repoID, q).Count(&n).Error
	return n, err
}

// OfManifest lists up to limit names of the tags that point at manifest
// id, by name.
func (s *TagStore) OfManifest(ctx context.Context, manifestID int64, limit int) ([]string, error) {
	var names []string
	err := s.read(ctx).Table("tags").Where("manifest_id = ?", manifestID).
		Order("name").Limit(limit).Pluck("name", &names).Error
	return names, err
}
