# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs the ipa_test binary built for the target's platform.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.imageops.cloud.plugins.plugin_utils.go_module import GoModuleAction as ActionModule  # noqa: F401
