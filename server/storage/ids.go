package storage

// ValidUploadID accepts the ids the content service makes (UUIDs), so that
// no id can climb out of a driver's upload area or name another object.
func ValidUploadID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
