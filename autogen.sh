#!/bin/sh
# autogen.sh - regenerate the autotools build files from configure.ac
exec autoreconf -fi
