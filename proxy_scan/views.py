from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from healthcode.errors import DomainError
from proxy_scan import services
from proxy_scan.forms import FamilyBindForm
from proxy_scan.selectors import family_members_of


def _holder(request):
    resident = getattr(request.user, "resident", None)
    if resident is None:
        raise Http404
    return resident


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def family_page(request):
    """My bound family members (masked), a form to bind one, a button to unbind."""
    holder = _holder(request)
    form = FamilyBindForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            binding = services.family_member_bind(holder=holder, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
            status = exc.status
        else:
            messages.success(request, _("已绑定 %(name)s。") % {"name": binding.member.masked_name})
            return redirect("proxy_scan:family")
    elif request.method == "POST":
        status = 400
    members = family_members_of(holder=holder)
    context = {"form": form, "members": members, "limit": services.MAX_MEMBERS}
    return render(request, "proxy_scan/family.html", context, status=status)


@never_cache
@login_required
@require_POST
def family_unbind(request, binding_id):
    try:
        binding = services.family_member_unbind(holder=_holder(request), binding_id=binding_id)
    except DomainError:
        raise Http404 from None
    messages.success(request, _("已解绑 %(name)s。") % {"name": binding.member.masked_name})
    return redirect("proxy_scan:family")
