"""Recorded and documented vendor bodies, copied from docs/cloud-apis.md.

[CAP]/[DOC] samples are real captures or vendor documents; [INF] ones are the
simulator shapes the spec defines. Tests must not edit them in place: use copy.deepcopy.
"""

# --- 360 Smart ------------------------------------------------------------------------

QID = "1234123412"
SID = "4a20145c62428d31b52b53c9ccbfcee4"
PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"
SN = "361TY000003000000"

FULL_SUPPORT = (
    '{"carpetMode":1,"cleanTimesInTimer":1,"deleteMap":1,"led":1,"logReport":1,'
    '"maxBanArea30":1,"maxMode":1,"mop":1,"mopBanArea":1,"multiQuietHours":1,"reboot":1,'
    '"remoteControl":1,"remoteControlWithMap":1,"restoreMap":1,"roomSweep":1,"rotateMap":1,'
    '"rssi":1,"saveMap":1,"setRoomAttrib":1,"smartArea":1,"softAlongWall":1,'
    '"sweepAreaInTimer":1,"timedSweepMode":1,"virtualWall":1,"voicePacket":1,"volume":1}'
)

# 3.5.2 [CAP]
GETLIST = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "list": [
            {
                "sn": SN,
                "devType": 3,
                "icon": "https://p.ssl.qhimg.com/t01047fcf6ee991aeb9.png",
                "title": "Example Vacuum",
                "hardware": "S7",
                "pkcode": "",
                "hwSn": "",
                "version": "1.8.9",
                "versionCode": 2976,
                "role": 2,
                "online": 1,
                "support": FULL_SUPPORT,
                "alexaDefault": 0,
                "ownerQid": 0,
                "ownerImage": "",
                "ownerNickName": "…",
                "bindTime": 0,
            }
        ]
    },
}

# 3.5.5 [INF] simulator item shape
RECORDS_PAGE = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "list": [
            {
                "cleanId": "361TY000003000000-1703612364",
                "startTime": 1703612364,
                "endTime": 1703614164,
                "cleanArea": 42,
                "cleanTime": 1800,
                "mode": "smartClean",
                "errorEnd": 0,
            }
        ]
    },
}

# 3.5.7 [CAP]
STATIS = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "cleanArea": 594,
        "cleanCount": 22,
        "cleanTime": 44175,
        "clues": "The accumulated cleaning area is equivalent to ((4.1)) basketball courts, "
        "saving you ((12.3)) hours",
        "mopArea": 0,
    },
}

# 3.5.8 [CAP]
ALL_STATIS = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "allCleanArea": 5183,
        "allCleanCount": 662,
        "allCleanTime": 833558,
        "allMopArea": 0,
        "bindNum": 1,
    },
}

# 3.5.9 [INF]
RECENTLY = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "week": [{"date": "2024-01-01", "area": 12}, {"date": "2024-01-02", "area": 0}],
        "month": [{"date": "2024-01", "area": 310}],
    },
}

# 3.5.10 [INF]
INVITES = {
    "errno": 0,
    "errmsg": "Succeeded",
    "data": {
        "list": [
            {
                "qid": "2000000002",
                "nickName": "Guest",
                "image": "",
                "status": 1,
                "createTime": 1703612364,
            }
        ]
    },
}

# 3.5.11 [INF]
ERROR_INFO = {
    "-2201": {"title": "Wheel stuck", "desc": "Check the drive wheels for tangles."},
    "-2405": "Dust bin full",
}

# 3.5.12 [INF]
MODEL_ALIAS = {
    "S7": {"name": "360 S7", "ovLogReport": "1", "cnLogReport": "0"},
    "S5": {"name": "360 S5", "ovLogReport": "0", "cnLogReport": "0"},
}

ACK = {"errno": 0, "errmsg": "Succeeded", "data": {}}

# --- Mammotion ------------------------------------------------------------------------

# 4.3.1 [CAP]
APP_LOGIN = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "access_token": "app-access-token-0001",
        "token_type": "bearer",
        "refresh_token": "app-refresh-token-0001",
        "expires_in": 1295999,
        "scope": "read",
        "grant_type": "password",
        "authorization_code": "auth-code-0001",
        "userInformation": {
            "areaCode": "SWE",
            "domainAbbreviation": "SE",
            "email": "owner@example.com",
            "gender": "0",
            "userId": "user-0001",
        },
        "jti": "jti-0001",
    },
}

# 4.3.2 [CAP]
AREAS = {
    "code": 0,
    "msg": "Request success",
    "data": [
        {
            "areaCnName": "瑞典",
            "areaEnName": "Sweden",
            "code": "46",
            "domainAbbreviation": "SE",
            "id": "1524591956582207600",
            "isoCode": "SWE",
            "pinyin": "RuiDian",
        },
        {
            "areaCnName": "美国",
            "areaEnName": "United States of America",
            "code": "1",
            "domainAbbreviation": "US",
            "id": "1524591956582207515",
            "isoCode": "USA",
            "pinyin": "MeiGuo",
        },
        {
            "areaCnName": "德国",
            "areaEnName": "Germany",
            "code": "49",
            "domainAbbreviation": "DE",
            "id": "1524591956582207599",
            "isoCode": "DEU",
            "pinyin": "DeGuo",
        },
    ],
}

# 4.4.1 [DOC][CAP]
OPEN_TOKEN = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.new-access.sig",
        "refresh_token": "refresh-new-0002",
        "token_type": "Bearer",
        "expires_in": 3600,
    },
}

DEVICE_ID = "4DMCToYk7Qx2hLpe90u5oV"

# 4.4.3 [DOC][CAP]
MOWERS = {
    "code": 0,
    "msg": "Request success",
    "msgTitle": "Operation Successful",
    "requestId": "176853488788872870010",
    "data": [
        {
            "id": DEVICE_ID,
            "name": "Yuka-MV27A3F9K2",
            "nickname": "Front Lawn",
            "model": "Luba2 AWD 5000",
            "icon": "https://example.invalid/icon.png",
            "online": 1,
        },
        {
            "id": "RTKSTATION00000000000001",
            "name": "RTKX9Q2L7P4",
            "nickname": "",
            "model": "RtkRefStationV1",
            "icon": "",
            "online": 1,
        },
    ],
}

# 4.4.4 [DOC][CAP]
DETAIL = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "id": DEVICE_ID,
        "name": "Luba-VS5K8D2M1",
        "nickname": "",
        "model": "LUBA 2 AWD 3000X",
        "icon": "",
        "version": "1.30.29.8",
        "online": 1,
        "status": "Working",
        "batteryLevel": 48,
        "chargeStatus": 0,
        "network": {
            "usedNetwork": "1",
            "wifiAvailable": True,
            "wifiRssi": -64,
            "wifiIp": "192.168.1.100",
            "cellularAvailable": False,
            "cellularRssi": -67,
        },
    },
}

# 4.4.5 [DOC][CAP]
PLAN = {
    "code": 0,
    "msg": "Request success",
    "data": [{"taskId": "task-a", "taskName": "Morning mow"}],
}

# 4.4.6 [DOC]
ACTION_OK = {
    "code": 200,
    "msg": "Success",
    "data": {"commandResult": True, "resultMessage": "Success"},
}

# 4.4.7 [DOC][CAP]
REPORTS = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "records": [
            {
                "workId": "w-1",
                "endWorkTime": 1759168800000,
                "workType": 2,
                "workResult": 5,
                "workProgress": 100.0,
                "workArea": 120.0,
                "workTimeUsed": 3600,
            }
        ],
        "total": 12,
        "pageNumber": 1,
        "pageSize": 10,
        "pages": 2,
    },
}

# 4.4.8 [DOC]
SUMMARY = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "saveTime": 5400.0,
        "carbonReduction": 2520.0,
        "workCount": 12,
        "totalWorkArea": 1440.0,
    },
}

# 4.4.9 [DOC][CAP] (fields as listed)
REPORT_DETAIL = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "workArea": 120.0,
        "workTimeUsed": 3600,
        "saveTime": 90.0,
        "carbonReduction": 210.0,
        "energyConsume": 55.5,
        "startWorkTime": 1759165200000,
        "endWorkTime": 1759168800000,
        "workType": 2,
        "workResult": 5,
        "jobContent": 0,
        "workProcess": [
            {"timeStamp": 1759168800000, "eventCode": 12},
            {"timeStamp": 1759165200000, "eventCode": 2},
        ],
        "workParam": {
            "edgeMode": 1,
            "rideBoundaryDistance": 0.5,
            "channelMode": 0,
            "jobContent": 8,
            "knifeHeight": 55,
            "speed": 0.8,
            "channelWidth": 25,
            "toward": 90,
            "towardMode": 1,
            "ultraWave": 10,
            "visualHashs": ["a"],
        },
        "mapFilePath": "https://cdn.example.invalid/map/w-1.png?expires=1&sig=ab",
    },
}

# 4.4.10 [DOC][CAP]
FAULTS = {
    "code": 0,
    "msg": "Request success",
    "data": {
        "records": [
            {
                "code": 1005,
                "implication": "Low battery",
                "solution": "It will recharge and resume.",
                "gmtCreate": 1759222800000,
                "createTime": 1759222801500,
                "faultLevel": 2,
                "priority": 2,
                "imageList": [
                    {
                        "buttonName": "",
                        "buttonType": "IMAGE",
                        "url": "https://example.invalid/i.png",
                        "sort": 1,
                    }
                ],
                "videoList": [],
                "buttonList": [],
            }
        ],
        "total": 8,
        "pageNumber": 1,
        "pageSize": 50,
        "hasMore": False,
    },
}

DEACTIVATED = {"code": 500, "msg": "Your account activity is abnormal and has been deactivated"}
UNAUTHORIZED = {"code": 401, "msg": "Unauthorized"}
