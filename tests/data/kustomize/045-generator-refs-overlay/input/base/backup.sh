#!/bin/sh
set -eu
pg_dump "$DATABASE_URL" | gzip > /backup/dump.sql.gz
