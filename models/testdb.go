package models

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
)

// FreshPostgresSchema creates an empty schema in the PostgreSQL database
// at dsn and returns a DSN whose connections use it, so that tests get a
// database of their own on one server.
func FreshPostgresSchema(dsn string) (string, error) {
	db, err := OpenPostgres(dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := db.c.w.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
