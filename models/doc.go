// Package models keeps Wharf's metadata in one database that every replica
// shares: a DB is the connection, with one small store per aggregate over
// it (db.Users, db.Tags, db.Webhooks...). It knows no HTTP; ctx comes first.
package models
