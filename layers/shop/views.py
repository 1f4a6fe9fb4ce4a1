"""The shop API under /api/v1/shop/: thin views over layers.shop.services (who may: access.py).

A shop, item or redemption out of the viewer's sight answers 404 like one that does not exist;
an operator's lookups name the volunteer by display name only.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.errors import NotFound
from geogrid.hierarchy import Level
from geogrid.openapi import conflict
from geogrid.queryparams import PageParams
from layers.shop import codes, services
from layers.shop.access import ShopViewer
from layers.shop.figures import shop_figures
from layers.shop.inputs import (
    AdjustStockInput,
    CancelInput,
    CounterRedeemInput,
    ItemInput,
    ReserveInput,
    RestockInput,
)
from layers.shop.models import Redemption, Shop, StockMovement
from layers.shop.serializers import (
    CardOut,
    ItemOut,
    MovementOut,
    RedemptionOut,
    ShopOut,
    item_out,
    movement_out,
    redemption_out,
    shop_out,
)
from layers.volunteering.figures import FigureQuery
from layers.volunteering.serializers import ShopFiguresOut
from layers.volunteering.views import FigureParams, figure_query

NOT_FOUND = {404: OpenApiResponse(description="no such object in your sight")}


def viewer_of(request: Request) -> ShopViewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to use the points shop"))
    return ShopViewer(request.user)


def _body(request: Request) -> Any:
    return request.data if hasattr(request.data, "get") else {}


def _redemption(viewer: ShopViewer, r: Redemption) -> dict[str, Any]:
    return redemption_out(r, own=viewer.owns(r.account.volunteer_id))


def _loaded(pk: int) -> Redemption:
    return Redemption.objects.select_related("item", "shop", "account__volunteer").get(pk=pk)


# -- shops and items -------------------------------------------------------------------------
class ShopListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_shops_list",
                   summary="Shops you may spend at, work at or manage",
                   responses={200: ShopOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        rows = Shop.objects.filter(viewer.shops_q()).select_related("community").order_by("id")
        return Response([shop_out(s, s.pk in viewer.operated) for s in rows])


def _shop(viewer: ShopViewer, pk: int) -> Shop:
    shop = Shop.objects.filter(viewer.shops_q(), pk=pk).select_related("community").first()
    if shop is None:
        raise NotFound(_("no such shop"))
    return shop


class ItemListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_items_list",
                   summary="A shop's items (active ones; all of them for its staff and operators)",
                   responses={200: ItemOut(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        shop = _shop(viewer, pk)
        rows = shop.items.order_by("price_points", "id")
        if not (viewer.manages(shop) or viewer.operates(shop)):
            rows = rows.filter(active=True)
        return Response([item_out(i) for i in rows])

    @extend_schema(operation_id="shop_items_add", request=ItemInput,
                   summary="Add an item to a shop (POINTS_VERIFY staff of its community)",
                   responses={201: ItemOut, **conflict()})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        shop = _shop(viewer, pk)
        data = ItemInput(data=_body(request))
        data.is_valid(raise_exception=True)
        return Response(item_out(services.add_item(viewer, shop.pk, **data.validated_data)),
                        status=201)


# -- the volunteer's redemptions ------------------------------------------------------------
class RedemptionParams(PageParams):
    shop = serializers.IntegerField(min_value=1, max_value=2**62, required=False, default=None,
                                    help_text="a shop you operate: its redemptions")
    status = serializers.ChoiceField(choices=Redemption.Status.choices, required=False,
                                     default=None)


class RedemptionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_redemptions_list", parameters=[RedemptionParams],
                   summary="Your redemptions (with pickup codes), or your shop's (?shop=)",
                   responses={200: RedemptionOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = RedemptionParams.parse(request.query_params)
        if p["shop"] is not None:
            if not (viewer.is_super or p["shop"] in viewer.operated):
                raise NotFound(_("no such shop of yours"))
            rows = Redemption.objects.filter(shop_id=p["shop"])
        elif viewer.volunteer is not None:
            rows = Redemption.objects.filter(account__volunteer=viewer.volunteer)
        else:
            rows = Redemption.objects.none()
        if p["status"]:
            rows = rows.filter(status=p["status"])
        size = p["page_size"] or 50
        page = rows.select_related("item", "shop", "account__volunteer").order_by(
            "-reserved_at", "-id")[(p["page"] - 1) * size:p["page"] * size]
        return Response([_redemption(viewer, r) for r in page])

    @extend_schema(operation_id="shop_reserve", request=ReserveInput,
                   summary="Reserve an item: the points are taken now, collect it with the "
                           "pickup code (201; 200 for a repeated key)",
                   responses={201: RedemptionOut, 200: RedemptionOut, **NOT_FOUND,
                              **conflict(_("out of stock, not enough points, the monthly "
                                           "limit reached, or the key used otherwise"))})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = ReserveInput(data=_body(request))
        data.is_valid(raise_exception=True)
        done = services.reserve(viewer, **data.validated_data)
        return Response(_redemption(viewer, _loaded(done.redemption.pk)),
                        status=201 if done.created else 200)


class CancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_redemption_cancel", request=CancelInput,
                   summary="Cancel a reservation (its volunteer, or an operator of the shop): "
                           "points and stock come back",
                   responses={200: RedemptionOut, **conflict()})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        services.redemption_for(viewer, pk)  # out of sight → 404 before the body is read
        data = CancelInput(data=_body(request))
        data.is_valid(raise_exception=True)
        r = services.cancel(viewer, pk, **data.validated_data)
        return Response(_redemption(viewer, _loaded(r.pk)))


class CardView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_card",
                   summary="Your counter card code (show it to redeem at the counter)",
                   responses={200: CardOut, **NOT_FOUND})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        v = viewer.volunteer
        if v is None or not v.active:
            raise NotFound(_("you are not an active volunteer"))
        now = timezone.now()
        return Response(dict(CardOut({"code": codes.card_code(v.pk, now),
                                      "valid_until": codes.card_valid_until(now),
                                      "display_name": v.display_name}).data))


# -- the counter ------------------------------------------------------------------------------
class CounterLookupView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_counter_lookup",
                   summary="What a pickup code is for, at your shop (display name only)",
                   responses={200: RedemptionOut})
    def get(self, request: Request, code: str) -> Response:
        viewer = viewer_of(request)
        return Response(_redemption(viewer, services.find_reserved(viewer, code)))


class CounterCollectView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_counter_collect", request=None,
                   summary="Hand the item over for this pickup code (final)",
                   responses={200: RedemptionOut, **conflict()})
    def post(self, request: Request, code: str) -> Response:
        viewer = viewer_of(request)
        r = services.collect(viewer, code)
        return Response(_redemption(viewer, _loaded(r.pk)))


class CounterRedeemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_counter_redeem", request=CounterRedeemInput,
                   summary="Redeem at the counter for a volunteer showing their card "
                           "(reserved and collected at once)",
                   responses={201: RedemptionOut, 200: RedemptionOut, **NOT_FOUND,
                              **conflict()})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = CounterRedeemInput(data=_body(request))
        data.is_valid(raise_exception=True)
        done = services.redeem_at_counter(viewer, **data.validated_data)
        return Response(_redemption(viewer, _loaded(done.redemption.pk)),
                        status=201 if done.created else 200)


# -- stock -------------------------------------------------------------------------------------
class RestockView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_item_restock", request=RestockInput,
                   summary="Goods in, with the donor (staff of the community or an operator)",
                   responses={201: MovementOut})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        services.item_for(viewer, pk, operator_too=True)
        data = RestockInput(data=_body(request))
        data.is_valid(raise_exception=True)
        movement = services.restock(viewer, pk, **data.validated_data)
        return Response(movement_out(movement), status=201)


class AdjustStockView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_item_adjust", request=AdjustStockInput,
                   summary="Correct the stock after a count (staff of the community)",
                   responses={201: MovementOut, **conflict()})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        services.item_for(viewer, pk, operator_too=False)
        data = AdjustStockInput(data=_body(request))
        data.is_valid(raise_exception=True)
        return Response(movement_out(services.adjust_stock(viewer, pk, **data.validated_data)),
                        status=201)


class MovementListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_item_movements", parameters=[PageParams],
                   summary="An item's stock movements, newest first (staff and operators)",
                   responses={200: MovementOut(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        item = services.item_for(viewer, pk, operator_too=True)
        p = PageParams.parse(request.query_params)
        size = p["page_size"] or 50
        rows = (StockMovement.objects.filter(item=item).select_related("donor_unit")
                .order_by("-id")[(p["page"] - 1) * size:p["page"] * size])
        return Response([movement_out(m) for m in rows])


class FiguresView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="shop_figures", parameters=[FigureParams],
                   summary="Shops, stock value and redemptions per grid (POINTS_COUNTS)",
                   responses={200: ShopFiguresOut, **NOT_FOUND})
    def get(self, request: Request) -> Response:
        q = figure_query(viewer_of(request), request)
        by = max(min(q.by, int(Level.COMMUNITY)), int(Level.SUBDISTRICT))
        return Response(shop_figures(FigureQuery(q.grid, by)))


