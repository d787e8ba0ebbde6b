/* What storage.c shares with archive.c: the locked directory and the
 * temp-file-then-rename protocol every artifact write goes through. */
#ifndef SLUICE_CONTROLLER_STORAGE_INTERNAL_H
#define SLUICE_CONTROLLER_STORAGE_INTERNAL_H

#include "controller/storage.h"

struct sl_storage_dir {
	const struct sl_storage *s;
	int parent_fd; /* <kind>/<ns> */
	int fd;        /* <kind>/<ns>/<name>, flock'ed */
	char *name;    /* <name> */
	char *rel;     /* <kind>/<ns>/<name> */
	bool removed;
};

/* A file being written: hidden in the object's directory until committed. */
struct staged_file {
	int dir_fd;
	int fd;
	char *tmp_name;
};

int staged_open(struct sl_storage_dir *d, const char *file, struct staged_file *ret,
                struct sl_error *err);
/* fsync, chmod 0600, rename to file, fsync the directory; then fills ret
 * (path, url, time) around the digest and size the caller measured. */
int staged_commit(struct sl_storage_dir *d, struct staged_file *f, const char *file,
                  const char *digest, uint64_t size, struct sl_artifact *ret, struct sl_error *err);
/* Closes and unlinks; harmless after a commit or on a zeroed struct. */
void staged_abort(struct staged_file *f);

/* A single path component we are willing to create or serve. */
bool storage_name_valid(const char *name);

#endif
