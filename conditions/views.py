from django.http import Http404
from django.shortcuts import render


def condition_list(request):
    return render(request, "conditions/list.html", {"groups": []})


def condition_detail(request, slug):
    raise Http404
