#!/bin/sh
set -eu
pg_dump --no-owner "$DATABASE_URL" | zstd > /backup/dump.sql.zst
