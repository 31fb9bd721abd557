// Package s3 is the blob store on an S3-compatible object store (AWS S3,
// MinIO, Ceph RGW...), so that several replicas can share one store.
//
// Layout under the configured prefix:
//
//	blobs/<algorithm>/<first two hex chars>/<hex>   committed blobs
//	uploads/<upload id>/<20-digit start offset>     upload data, in segments
//
// S3 objects cannot be appended to, so each PATCH of an upload becomes a
// segment object. Every segment but the last is kept at least minSegment
// bytes long (a small tail is rewritten together with the next chunk),
// which is what lets the commit assemble the blob server-side with a
// multipart copy: S3 refuses copy parts under 5 MiB except the last. A
// segment is written with a single PUT or a multipart upload, both of
// which S3 makes visible atomically, so a failed request leaves the
// previous data untouched and any replica can continue the upload.
//
// Driver holds no state of an upload but its objects: the segments are
// listed again on every call. A segment write holds at most two 8 MiB
// buffers, one uploading while the next fills. CommitUpload copies the
// segments into the blob inside the store, several parts at once, never
// through this process. Driver is also a storage.Pinger and, when
// Config.RedirectTTL is set, a storage.Redirector handing out presigned GET
// URLs.
package s3
