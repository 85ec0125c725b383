"""Django's password validators with their messages written in Chinese here.

Django ships zh-hans translations for them, but Django 5.2 looks the length message up with a
changed msgid (%d) that the shipped zh-hans catalog lacks, so the registration page said "This
password is too short…" in English. The project's own strings (Chinese msgids, as everywhere
else) cannot fall back to English whatever the catalogs hold. The rules are Django's.
"""

from django.contrib.auth import password_validation as django_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(django_validation.MinimumLengthValidator):
    def get_error_message(self):
        return _("密码太短：至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}


class UserAttributeSimilarityValidator(django_validation.UserAttributeSimilarityValidator):
    def get_error_message(self):
        return _("密码与%(verbose_name)s太相似，请换一个。")

    def get_help_text(self):
        return _("密码不能与您的其他个人信息太相似。")


class CommonPasswordValidator(django_validation.CommonPasswordValidator):
    def get_error_message(self):
        return _("这个密码太常见，容易被猜到，请换一个。")

    def get_help_text(self):
        return _("密码不能是常见密码。")


class NumericPasswordValidator(django_validation.NumericPasswordValidator):
    def get_error_message(self):
        return _("密码不能全是数字，请加入字母或符号。")

    def get_help_text(self):
        return _("密码不能全是数字。")
