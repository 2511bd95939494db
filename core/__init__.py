"""The bottom floor: plain helpers every app may import (errors, limits, request helpers,
admin helpers). Nothing here imports from accounts, mfa, organizations or backstage's URLs."""
