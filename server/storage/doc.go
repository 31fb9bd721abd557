// Package storage defines the small blob store that holds layer and config
// bytes by digest, and in-progress upload data by upload id. Metadata (which
// repository links which blob) lives in the database, not here.
//
// Driver is the whole contract, implemented by packages filesystem and s3
// and checked by the conformance suite in storagetest. An upload grows by
// AppendUpload at the offset the caller has accounted for (data past it,
// left by a failed request, is dropped) and becomes a blob by CommitUpload,
// which must be atomic: after a crash the blob is absent or whole. Upload
// ids are only those ValidUploadID accepts, so no id can reach outside a
// driver's upload area. Drivers may also be Pingers, for the readiness
// check, and Redirectors, to send blob GETs straight to the backend.
package storage
