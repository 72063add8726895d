#!/usr/bin/env python3
"""Reads WARC files with warcio (an independent reader) for the tests
(test_support::warc).

Prints one JSON object per record: its type, target URI, date, digests,
IP address, the revisit fields, the HTTP status, and whether warcio found
its digests right (true), wrong (false) or did not check them (null, as
for revisits, which carry no payload). Exits 1 if warcio cannot read a file.
"""
import json
import sys

from warcio.archiveiterator import ArchiveIterator


def main(paths):
    for path in paths:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream, check_digests=True)
            for record in records:
                # Reading the whole block is what checks its digests.
                while record.content_stream().read(1 << 20):
                    pass
                headers = record.rec_headers
                print(json.dumps({
                    "type": record.rec_type,
                    "uri": headers.get_header("WARC-Target-URI"),
                    "date": headers.get_header("WARC-Date"),
                    "id": headers.get_header("WARC-Record-ID"),
                    "concurrent_to": headers.get_header("WARC-Concurrent-To"),
                    "ip": headers.get_header("WARC-IP-Address"),
                    "payload_digest": headers.get_header("WARC-Payload-Digest"),
                    "profile": headers.get_header("WARC-Profile"),
                    "refers_to_uri": headers.get_header("WARC-Refers-To-Target-URI"),
                    "refers_to_date": headers.get_header("WARC-Refers-To-Date"),
                    "truncated": headers.get_header("WARC-Truncated"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "digests_ok": record.digest_checker.passed,
                    "problems": list(record.digest_checker.problems),
                    "file": path,
                    "offset": records.get_record_offset(),
                }))


if __name__ == "__main__":
    main(sys.argv[1:])
