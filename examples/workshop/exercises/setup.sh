#!/bin/sh
echo "workshop environment ready"
