// Package models holds Wharf's metadata: GORM models and the store methods
// that read and write them. It knows nothing of HTTP; every method takes a
// context first.
package models
