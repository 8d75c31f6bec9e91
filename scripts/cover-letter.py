#!/usr/bin/env python3
"""Print the subject and body of a git format-patch cover letter.

The output is a branch description for `git format-patch
--cover-from-description=subject`: first paragraph the subject, the rest the
body. Everything from the generated shortlog on (author line "Name (N):") is
left out, since format-patch writes it again.
"""
import email
import email.policy
import re
import sys


def main(path: str) -> int:
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    subject = re.sub(r"^\[[^]]*\]\s*", "", str(msg["subject"]))
    body = msg.get_content()
    out = []
    for line in body.splitlines():
        if re.match(r"^\S.* \(\d+\):$", line):
            break
        out.append(line)
    print(subject)
    print()
    print("\n".join(out).strip())
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__ + "\nusage: cover-letter.py PATCH", file=sys.stderr)
        sys.exit(0 if sys.argv[1:2] in (["-h"], ["--help"]) else 2)
    sys.exit(main(sys.argv[1]))
